# A custom vigil check written with `deny`: each object in the set is a FAIL finding.
package vigil.checks.custom_no_user_named_admin

metadata := {
	"title": "No IAM user is called admin",
	"severity": "medium",
	"service": "iam",
}

deny contains {"resource": user.Arn, "message": sprintf("IAM user `%s` has a guessable name.", [user.UserName])} if {
	some user in input.Iam.Users
	lower(user.UserName) == "admin"
}
