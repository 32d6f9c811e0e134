/**
 * Vigil's own record of the versions it saw serving while the model was healthy: the rollback's
 * first choice of target (MLflow keeps no alias history). Read-only view for the actions; the
 * runner keeps it up to date from the `mlflow` sources and successful rollbacks.
 */
export interface KnownGoodVersions {
  /**
   * Versions of a Vigil model that served healthy, most recently healthy first. Versions are the
   * registry's (MLflow version strings), for the serving alias (mode alias) or the Production
   * stage (mode stage).
   */
  candidates(model: string, slot: string): readonly string[];
}
