//! Recording calls whose "not found" error means the thing asked for is absent: a fact about
//! the account (ledger: not configured), decided per operation rather than globally because
//! codes such as `ResourceNotFoundException` also mean "the resource vanished" elsewhere.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use vigil_model::Outcome;

use crate::session::{Call, Session};

/// Records a call; the listed error codes become `NotConfigured`, everything else is classified
/// as usual. Returns the output when the call succeeded.
pub(crate) fn record_absent<T, E>(session: &Session, call: &Call<'_>, result: Result<T, SdkError<E, HttpResponse>>, absent_codes: &[&str]) -> Option<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Err(error) if error.code().is_some_and(|code| absent_codes.contains(&code)) => {
            let code = error.code().unwrap_or_default().to_string();
            session.record_outcome(call, Outcome::NotConfigured { code });
            None
        }
        other => session.record(call, other),
    }
}

/// Like `call!`, with the listed error codes recorded as `NotConfigured`.
#[macro_export]
macro_rules! call_absent {
    ($session:expr, $call:expr, $future:expr, $codes:expr) => {{
        let call = &$call;
        let admission = $session.admit(call.service, call.region).await;
        let (result, attempts) = $crate::session::counting(::std::boxed::Box::pin($future)).await;
        admission.settle(attempts, &result);
        $crate::services::absent::record_absent(&$session, call, result, $codes)
    }};
}
