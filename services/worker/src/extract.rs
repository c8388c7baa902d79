//! Text out of what sources hold: plain text and Markdown as they are, HTML through
//! `html2text` (with the page's `<title>`), PDF through `pdf-extract` (on a blocking thread,
//! and a PDF that makes the parser panic is reported as unreadable, not a crashed worker).

use anyhow::{Context, anyhow, bail};

/// The kinds of content a source can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Html,
    Pdf,
}

impl Kind {
    /// From a file name's extension (uploads).
    pub fn from_extension(path: &str) -> Option<Kind> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "txt" | "md" | "markdown" | "text" | "csv" => Some(Kind::Text),
            "html" | "htm" | "xhtml" => Some(Kind::Html),
            "pdf" => Some(Kind::Pdf),
            _ => None,
        }
    }

    /// From a `Content-Type` header (links).
    pub fn from_content_type(content_type: &str) -> Option<Kind> {
        let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match mime.as_str() {
            "text/html" | "application/xhtml+xml" => Some(Kind::Html),
            "application/pdf" => Some(Kind::Pdf),
            m if m.starts_with("text/") => Some(Kind::Text),
            "application/json" | "application/xml" => Some(Kind::Text),
            _ => None,
        }
    }
}

/// The extracted text, and a title when the content has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub title: Option<String>,
    pub text: String,
}

pub async fn extract(kind: Kind, bytes: Vec<u8>) -> anyhow::Result<Extracted> {
    let extracted = match kind {
        Kind::Text => Extracted { title: None, text: String::from_utf8_lossy(&bytes).into_owned() },
        Kind::Html => {
            let title = html_title(&String::from_utf8_lossy(&bytes));
            let text = html2text::from_read(bytes.as_slice(), 100).map_err(|e| anyhow!("reading the HTML: {e}"))?;
            Extracted { title, text }
        }
        Kind::Pdf => {
            let text = tokio::task::spawn_blocking(move || pdf_extract::extract_text_from_mem(&bytes))
                .await
                .map_err(|_| anyhow!("this PDF cannot be read (the parser failed on it)"))?
                .context("reading the PDF")?;
            Extracted { title: None, text }
        }
    };
    let text = extracted.text.trim().to_string();
    if text.is_empty() {
        bail!("no text found in the content");
    }
    Ok(Extracted { title: extracted.title, text })
}

/// The text of an HTML document's `<title>`, entities decoded by html2text.
fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title>")?;
    let raw = &html[open_end..close];
    let title = html2text::from_read(format!("<p>{raw}</p>").as_bytes(), 1000).ok()?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// A title for text without one: its first non-empty line, shortened.
pub fn title_from_text(text: &str) -> String {
    let line =
        text.lines().map(|l| l.trim().trim_start_matches('#').trim()).find(|l| !l.is_empty()).unwrap_or("Untitled");
    let mut title: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        title.push('…');
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn html_gives_its_title_and_text_without_markup() {
        let html = b"<html><head><title>Queues &amp; you</title><style>p{}</style></head>\
                     <body><h1>Hello</h1><p>A <b>bold</b> claim.</p><script>x()</script></body></html>";
        let e = extract(Kind::Html, html.to_vec()).await.unwrap();
        assert_eq!(e.title.as_deref(), Some("Queues & you"));
        assert!(e.text.contains("Hello") && e.text.contains("bold") && !e.text.contains("<b>"), "{}", e.text);
    }

    #[tokio::test]
    async fn empty_or_broken_content_is_refused() {
        assert!(extract(Kind::Text, b"  \n ".to_vec()).await.is_err());
        assert!(extract(Kind::Pdf, b"%PDF-1.4 garbage".to_vec()).await.is_err());
    }

    #[test]
    fn kinds_and_titles() {
        assert_eq!(Kind::from_extension("uploads/u/x.MD"), Some(Kind::Text));
        assert_eq!(Kind::from_extension("a.exe"), None);
        assert_eq!(Kind::from_content_type("text/html; charset=utf-8"), Some(Kind::Html));
        assert_eq!(title_from_text("\n# Heading one\nbody"), "Heading one");
    }
}
