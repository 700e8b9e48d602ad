"""The AWS step of the deploy guide: the bucket files and the IAM policy, checked offline.

parliament lints the policies; moto's S3 and IAM accept the very JSON files the guide's
`aws s3api` / `aws iam` commands read (the CLI's `file://` arguments are the API's shapes).
"""

from __future__ import annotations

import json
import re
import string
import warnings

import boto3
import pytest
from moto import mock_aws

from Module_1_Foundations.common.paths import REPO_ROOT

AWS = REPO_ROOT / "Module_5_Deployment" / "deploy" / "aws"
GUIDE = REPO_ROOT / "Module_5_Deployment" / "deploy_instructions.md"
BUCKET, PREFIX, REGION = "loanbook-lake-test", "loanbook", "eu-west-1"

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports pkg_resources (deprecated)
    import parliament


def _render(name: str) -> str:
    """The file as `envsubst` renders it in the guide (same ${VAR} syntax as string.Template)."""
    return string.Template((AWS / name).read_text()).substitute(
        HDP_S3_BUCKET=BUCKET, HDP_S3_PREFIX=PREFIX
    )


def _findings(policy: str) -> list[str]:
    found = parliament.analyze_policy_string(policy, include_community_auditors=True).findings
    return [f"{f.issue}: {f.detail}" for f in found]


@pytest.mark.parametrize("policy", ["pipeline_policy.json", "bucket_policy.json"])
def test_parliament_finds_nothing_in_the_policies(policy):
    assert _findings(_render(policy)) == []


def test_parliament_would_catch_object_actions_granted_on_the_bucket():
    policy = json.loads(_render("pipeline_policy.json"))
    policy["Statement"][1]["Resource"] = f"arn:aws:s3:::{BUCKET}"
    assert any(f.startswith("RESOURCE_MISMATCH") for f in _findings(json.dumps(policy)))


def test_pipeline_policy_is_least_privilege():
    statements = json.loads(_render("pipeline_policy.json"))["Statement"]
    actions = [a for s in statements for a in s["Action"]]
    resources = [
        r
        for s in statements
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not [a for a in actions if "*" in a], "no wildcard actions"
    assert all(r.startswith(f"arn:aws:s3:::{BUCKET}") for r in resources), "this bucket only"
    assert not [r for r in resources if r.endswith(f"{BUCKET}/*")], (
        "objects under the prefixes only"
    )
    # nothing that can change the bucket's own configuration or delete it
    assert not [a for a in actions if re.match(r"s3:(PutBucket|DeleteBucket|PutEncryption)", a)]


def test_pipeline_policy_grants_what_the_object_store_code_calls():
    actions = {
        a for s in json.loads(_render("pipeline_policy.json"))["Statement"] for a in s["Action"]
    }
    # head_bucket/list_objects_v2 -> ListBucket; get/head_object -> GetObject; put_object and
    # multipart -> PutObject; idempotent rewrites -> DeleteObject; failed uploads -> Abort...
    needed = {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
              "s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"}  # fmt: skip
    assert needed <= actions


@mock_aws
def test_the_guides_bucket_calls_make_a_private_encrypted_versioned_bucket():
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    load = lambda name: json.loads((AWS / name).read_text())  # noqa: E731
    s3.put_public_access_block(
        Bucket=BUCKET, PublicAccessBlockConfiguration=load("public_access_block.json")
    )
    s3.put_bucket_ownership_controls(
        Bucket=BUCKET, OwnershipControls=load("ownership_controls.json")
    )
    s3.put_bucket_encryption(
        Bucket=BUCKET, ServerSideEncryptionConfiguration=load("bucket_encryption.json")
    )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=load("bucket_versioning.json"))
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_render("bucket_policy.json"))

    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@mock_aws
def test_iam_accepts_the_rendered_pipeline_policy():
    iam = boto3.client("iam", region_name="us-east-1")
    created = iam.create_policy(
        PolicyName="hdp-pipeline-lake", PolicyDocument=_render("pipeline_policy.json")
    )
    assert created["Policy"]["PolicyName"] == "hdp-pipeline-lake"


def test_every_file_the_guide_reads_is_committed_and_every_committed_file_is_used():
    guide = GUIDE.read_text()
    used = set(re.findall(r"Module_5_Deployment/deploy/aws/([\w.]+\.json)", guide))
    assert used == {p.name for p in AWS.glob("*.json")}
