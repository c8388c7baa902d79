//! The one email check of the app. The database refuses a user row whose email fails
//! `string::is_email` (the schema's `ASSERT`); SurrealDB 3.3.5 implements that function with
//! `addr::parse_email_address` (surrealdb-runtime's `string::is::email`), so the API calls the
//! very same parser, with the same crate features: an address the API accepts is one the
//! database accepts, and a bad one is a 422 at the edge rather than a database error.

/// The longest address kept (RFC 5321's 254; `addr` refuses longer ones too).
pub const MAX_LEN: usize = 254;

/// The address as stored (trimmed, lower-case), or `None` when the database would refuse it.
pub fn normalize(email: &str) -> Option<String> {
    // Bytes first: nothing longer than the longest accepted address is even looked at.
    if email.len() > MAX_LEN * 4 {
        return None;
    }
    let email = email.trim().to_ascii_lowercase();
    // `addr` takes any Unicode; the database's copy would too, but control characters
    // (a NUL, a newline) have no place in an address we print and log.
    if email.chars().any(char::is_control) {
        return None;
    }
    addr::parse_email_address(&email).is_ok().then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_the_database_refuses_are_refused() {
        for bad in [
            "a@@b.com",
            "a@b..com",
            ".a@b.com",
            "a.@b.com",
            "a@-b.com",
            "a@b.c@d.com",
            "a@127.0.0.1",
            "<script>@example.com",
            "a\u{0}@example.com",
            "not-an-email",
            "",
            "@example.com",
            "a@",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(normalize(&long), None);
    }

    #[test]
    fn ordinary_addresses_are_kept_lower_case() {
        assert_eq!(normalize(" Ada@Example.com ").as_deref(), Some("ada@example.com"));
        assert_eq!(normalize("first.last+tag@sub.example.co.uk").as_deref(), Some("first.last+tag@sub.example.co.uk"));
    }
}
