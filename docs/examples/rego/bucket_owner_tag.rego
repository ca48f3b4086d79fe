# A custom vigil check: every S3 bucket names its owner in an `owner` tag.
# Run it with: vigil scan --demo --rego docs/examples/rego
package vigil.checks.custom_bucket_has_owner_tag

metadata := {
	"title": "S3 buckets have an owner tag",
	"severity": "low",
	"service": "s3",
	"resource_type": "AWS::S3::Bucket",
	"description": "Every bucket must say which team owns it, so incidents reach someone.",
}

# One finding per bucket: PASS when the tag is there, FAIL otherwise.
findings contains finding if {
	some resource in input.resources
	resource.type == "AWS::S3::Bucket"
	owner := object.get(resource.tags, "owner", "")
	finding := {
		"resource": resource.arn,
		"status": status(owner),
		"message": message(resource.id, owner),
		"evidence": {"Tags": resource.tags},
	}
}

status(owner) := "PASS" if owner != ""

status(owner) := "FAIL" if owner == ""

message(bucket, owner) := sprintf("Bucket `%s` is owned by `%s`.", [bucket, owner]) if owner != ""

message(bucket, owner) := sprintf("Bucket `%s` has no `owner` tag.", [bucket]) if owner == ""
