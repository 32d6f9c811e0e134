"""vigil-client: send predictions and labels to Vigil from Python serving code.

>>> from vigil_client import Vigil
>>> vigil = Vigil("http://vigil:9470", token="…ingest token…")
>>> vigil.log_prediction("fraud", id="tx-1", features={"amount": 12.5}, prediction=1, score=0.93)
>>> vigil.log_label("fraud", id="tx-1", label=0)

``log_*`` never block and never raise for delivery problems: items go on a bounded queue that one
daemon thread sends in batches (NDJSON, gzip), retrying what can be retried. See :class:`Vigil`.
Pure standard library; numpy and pandas values are converted when given, never required.
"""

from ._client import Rejection, Stats, Vigil, VigilError
from ._convert import rfc3339, to_json, to_ts

__all__ = ["Vigil", "VigilError", "Rejection", "Stats", "to_json", "to_ts", "rfc3339"]
__version__ = "0.1.0"
