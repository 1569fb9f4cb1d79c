"""Models are local paths, ones trained here or ones a package carries: nothing is fetched from a model hub at
run time. Hugging Face libraries are told so before they are imported (they read the setting once), unless
the environment says otherwise. Without it, a hub lookup that MLflow's transformers flavor makes while
logging a model (its model card and license) retried for ~46 s on a machine without internet."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
