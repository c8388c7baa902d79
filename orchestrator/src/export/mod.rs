//! `ephitup export`.
use crate::cli::ExportFormat;
use crate::config::Config;
pub fn render(_config: &Config, _format: ExportFormat, _image: &str) -> anyhow::Result<String> {
    anyhow::bail!("not yet")
}
