//! `ephitup import supervisord.conf`.
pub struct Converted {
    pub toml: String,
    pub warnings: Vec<String>,
}
pub fn supervisord(_path: &std::path::Path) -> anyhow::Result<Converted> {
    anyhow::bail!("not yet")
}
