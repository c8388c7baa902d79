//! Record ids as the API sees them: `notebook:abc` or just `abc`. Only plain keys are
//! accepted, and queries build the record with `type::record(table, key)`, so an id from a
//! URL can never name another table or inject SurrealQL.

/// The key part of a record id of a known table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey(String);

impl RecordKey {
    /// Parses `table:key` (the table must match) or a bare `key`.
    pub fn parse(table: &str, id: &str) -> Option<RecordKey> {
        let key = match id.split_once(':') {
            Some((t, key)) if t == table => key,
            Some(_) => return None,
            None => id,
        };
        let key = key.trim_start_matches('⟨').trim_end_matches('⟩');
        let plain = !key.is_empty()
            && key.len() <= 64
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        plain.then(|| RecordKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A new random key like the database's own (20 lowercase letters and digits, a letter
    /// first), for rows whose ids a query must know before it writes them.
    pub fn random() -> RecordKey {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut key = String::with_capacity(20);
        key.push(char::from(ALPHABET[fastrand::usize(..26)]));
        key.extend((1..20).map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())])));
        RecordKey(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_own_table_and_bare_keys_only() {
        assert_eq!(RecordKey::parse("note", "note:abc").map(|k| k.0), Some("abc".into()));
        assert_eq!(RecordKey::parse("note", "abc").map(|k| k.0), Some("abc".into()));
        assert_eq!(RecordKey::parse("note", "user:abc"), None);
        assert_eq!(RecordKey::parse("note", "a;DELETE user"), None);
        assert_eq!(RecordKey::parse("note", ""), None);
        let made = RecordKey::random();
        assert_eq!(RecordKey::parse("chunk", made.as_str()), Some(made.clone()), "a random key is a plain key");
        assert!(made.as_str().starts_with(|c: char| c.is_ascii_lowercase()) && made.as_str().len() == 20);
    }
}
