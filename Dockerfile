# syntax=docker/dockerfile:1
# Vigil's container image: a multi-stage build.
#   build:   all dependencies (TypeScript; better-sqlite3 13 carries prebuilt N-API binaries for
#            linux x64/arm64, glibc and musl, so no compiler is needed), `npm run build`, then
#            `npm prune --omit=dev`: node_modules keeps the production dependencies only.
#   runtime: the same base image, node_modules and dist/ copied over, non-root user `node`.
#
#   docker build -t vigil:dev .
#   docker run --rm -p 9470:9470 -v vigil-data:/var/lib/vigil vigil:dev serve --simulate
#   docker run --rm -p 9470:9470 -v "$PWD/vigil.yaml:/etc/vigil/vigil.yaml:ro" -v vigil-data:/var/lib/vigil \
#     vigil:dev serve --config /etc/vigil/vigil.yaml
#
# Signals: the entry point is exec form, so `node` itself is PID 1 and receives SIGTERM from
# `docker stop`; `vigil serve` handles SIGTERM/SIGINT (finishes in-flight writes, closes the
# store, exit 0 within server.shutdown_timeout, default 10s) and SIGHUP (reload). Node is not an
# init process (it reaps no zombies); Vigil starts no child processes unless an `exec`
# remediation action is enabled — then run with `docker run --init` (compose: `init: true`).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && node -e "require('better-sqlite3')(':memory:').close()"

FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX=2: glibc's per-thread malloc arenas (V8's and libuv's threads) held ~8 MB more
# at the bench load (npm run bench daemon); Vigil's work is on one thread, so nothing is lost.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    VIGIL_ADDRESS=0.0.0.0 \
    VIGIL_PORT=9470 \
    VIGIL_DB=/var/lib/vigil/vigil.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json LICENSE ./
COPY rules ./rules
COPY runbooks ./runbooks
COPY ui ./ui
COPY examples ./examples
COPY dashboards ./dashboards
# Config (read-only, mount your vigil.yaml here) and data (the SQLite file: mount a volume).
RUN mkdir -p /etc/vigil /var/lib/vigil && chown node:node /var/lib/vigil
VOLUME ["/etc/vigil", "/var/lib/vigil"]
USER node
EXPOSE 9470
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.VIGIL_PORT||9470)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size=16: Node 24 lets V8's young generation grow to 128 MB on a machine with
# several GB (Node 20: 32 MB); the daemon's RSS rose by ~90 MB with it (docs/operations.md → Memory).
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/dist/src/main.js"]
# Without --config: the embedded demo configuration (examples/vigil.yaml), which reads
# VIGIL_ADDRESS, VIGIL_PORT and VIGIL_DB from the environment set above.
CMD ["serve"]
