"""The tasks' names, declared once.

They are the Vertex AI console's node names, the local runner's task folders (where
resume finds a dead run's ``gcp_resources``) and the keys the run summary reads.
"""

CHECK_INPUTS = "check-run-inputs"
GET_CHAMPION = "get-champion"
VALIDATE = "validate-dataset"
UPLOAD_TRAINING = "upload-training-data"
UPLOAD_VALIDATION = "upload-validation-data"
LAUNCH = "launch-tuning-job"
WAIT = "wait-for-tuning-job"
SELECT_CHECKPOINT = "select-checkpoint"
EVALUATE = "evaluate-model"
REGISTER = "register-model"
DELETE = "delete-model"
FINALIZE = "finalize-run"
