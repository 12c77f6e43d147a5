"""What ingest/ and app/ share: settings, records, the store and the local models.

Importing the package first switches every library we use to offline mode, so
no code path can reach a model hub or send telemetry.
"""

import logging
import os

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    # onnxruntime >= 1.29 reports usage from Linux too unless this is set before it loads.
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}.items():
    os.environ.setdefault(_name, _value)

# A broken `.env` line stops start-up with one message naming it (cobbler.settings); the
# library's own warning, repeated by every import that reads `.env`, would only bury it.
logging.getLogger("dotenv.main").setLevel(logging.ERROR)
