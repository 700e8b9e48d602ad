# Module 1's make targets (included by the root Makefile). `make help` lists them.
M1_S3 := $(PY) -m Module_1_Foundations.project.local_s3_server

.PHONY: s3-up s3-down s3-status convert-loanbook upload-loanbook

s3-up: setup ## start the local S3 server (SeaweedFS on 127.0.0.1:$HDP_S3_PORT, data in .state/)
	@$(M1_S3) start

s3-down: setup ## stop the local S3 server (its whole process group; data kept)
	@$(M1_S3) stop

s3-status: setup ## is the local S3 server running and healthy? (exit 1 if not)
	@$(M1_S3) status

convert-loanbook: setup ## clean data/raw/loanbook/*.csv into Parquet under data/processed/loanbook
	$(PY) -m Module_1_Foundations.project.csv_to_parquet_to_s3 loanbook

upload-loanbook: setup s3-up ## convert the loan book and upload it to the lake bucket
	$(PY) -m Module_1_Foundations.project.csv_to_parquet_to_s3 loanbook --upload --create-bucket
