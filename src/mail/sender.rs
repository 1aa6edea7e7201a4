//! [`Sender`]: an email address with the display name it came with, made
//! canonical once.

/// An email address with the display name it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Lower-cased address.
    pub address: String,
    pub name: Option<String>,
}

impl Sender {
    pub fn new(address: &str, name: Option<&str>) -> Option<Sender> {
        let address = address.trim_ascii();
        let address = address
            .strip_prefix("mailto:")
            .unwrap_or(address)
            .trim_ascii();
        let (local, domain) = address.rsplit_once('@')?;
        let bad_byte = |b: u8| b.is_ascii_whitespace() || b.is_ascii_control();
        if local.is_empty()
            || domain.is_empty()
            || !domain.contains('.')
            || address.bytes().any(bad_byte)
        {
            return None;
        }
        let name = name
            .map(|n| n.trim_ascii().trim_matches(['"', '\'']).trim_ascii())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Some(Sender {
            address: address.to_ascii_lowercase(),
            name,
        })
    }

    /// A sender from an address [`super::address::parse_mailbox`] already made canonical.
    pub fn from_mailbox(address: String, name: Option<&str>) -> Sender {
        let name = name
            .map(|n| n.trim_ascii().trim_matches(['"', '\'']).trim_ascii())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Sender { address, name }
    }

    /// The part after `@`, lower-cased, without a trailing dot.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, d)| d.trim_end_matches('.'))
    }
}
