//! TODO
use ephitup_store::repo::jobs::ClaimedJob;
use super::{Ctx, Progress};
pub async fn run(_ctx: &Ctx, _job: &ClaimedJob, _progress: &Progress) -> anyhow::Result<serde_json::Value> {
    anyhow::bail!("not yet")
}
