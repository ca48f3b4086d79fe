//! Detector cases: each kind found with its position and redaction, validations refusing
//! look-alikes, and the secret never appearing in a finding.

use super::*;

fn kinds(text: &str) -> Vec<Kind> {
    scan(text).into_iter().map(|finding| finding.kind).collect()
}

#[test]
fn positions_are_line_and_column() {
    let text = "first line\n  key=AKIAQ3EGRZK7TSVNYW4D\n";
    let findings = scan(text);
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0].kind, findings[0].line, findings[0].column), (Kind::AwsAccessKeyId, 2, 7));
    assert_eq!(findings[0].redacted, "AKIA**************4D");
}

#[test]
fn the_secret_is_never_in_the_finding() {
    let cases = [
        ("AKIAQ3EGRZK7TSVNYW4D", "AKIAQ3EGRZK7TSVNYW4D"),
        ("aws_secret_access_key=Zq8/Lm2+Xr7vPq4tKw9sYb3nHc6JdF1eGa5uRo0i", "Zq8/Lm2+Xr7vPq4tKw9sYb3nHc6JdF1eGa5uRo0i"),
        ("DB_PASSWORD=Tr0ub4dor&3xQ", "Tr0ub4dor&3xQ"),
        ("card 4539 1488 0343 6467", "4539148803436467"),
    ];
    for (text, secret) in cases {
        let findings = scan(text);
        assert_eq!(findings.len(), 1, "{text}");
        let shown = format!("{findings:?}").replace(' ', "");
        assert!(!shown.contains(secret), "{shown}");
        // No more than a quarter of the secret is ever shown.
        let visible = findings[0].redacted.chars().filter(|c| *c != '*').filter(|c| secret.contains(*c)).count();
        assert!(visible * 4 <= secret.len() + 4, "{findings:?}");
    }
}

#[test]
fn validations() {
    assert_eq!(kinds("AKIAIOSFODNN7EXAMPLE"), []); // AWS's documented example
    assert_eq!(kinds("4539148803436467"), [Kind::CardNumber]);
    assert_eq!(kinds("4539148803436468"), []); // Luhn fails
    assert_eq!(kinds("DE89370400440532013000"), [Kind::Iban]);
    assert_eq!(kinds("DE89370400440532013001"), []); // mod 97 fails
    assert_eq!(kinds("12345678Z"), [Kind::SpanishNationalId]);
    assert_eq!(kinds("12345678A"), []); // wrong check letter
    assert_eq!(kinds("password=changeme"), []);
    assert_eq!(kinds("password=${SECRET}"), []);
    assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
}

#[test]
fn a_token_in_a_password_field_is_reported_as_the_token() {
    assert_eq!(kinds("api_key=ghp_R8v2XkQ9mLp4TzW7nBc3YhJ6dF1sGa5uEo0i"), [Kind::GithubToken]);
}

#[test]
fn named_values_like_environment_variables() {
    assert_eq!(scan_named("DB_PASSWORD", "Kx82_mPq7vRz").iter().map(|f| f.kind).collect::<Vec<_>>(), [Kind::PasswordInConfig]);
    assert_eq!(scan_named("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x"), []);
    assert_eq!(scan_named("LOG_LEVEL", "Kx82_mPq7vRz"), []);
    assert_eq!(scan_named("ANYTHING", "AKIAQ3EGRZK7TSVNYW4D").len(), 1);
    assert!(!scan_named("DB_PASSWORD", "Kx82_mPq7vRz")[0].redacted.contains("Kx82_mPq7vRz"));
}

#[test]
fn private_keys_need_a_body() {
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    );
    assert_eq!(kinds(&key), [Kind::PrivateKey]);
    assert_eq!(kinds("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"), []);
    // Inlined with literal \n, as in JSON.
    let inline = key.replace('\n', "\\n");
    assert_eq!(kinds(&inline), [Kind::PrivateKey]);
}
