//! Which IP addresses a guest may reach: a classifier of every special-use
//! range, so the policy can refuse anything that is not public unicast.
//!
//! IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4)
//! are judged by the address they carry: `[::ffff:127.0.0.1]` is loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of destination an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressClass {
    /// Public unicast: reachable under the policy.
    Public,
    /// A cloud instance-metadata endpoint (`169.254.169.254`,
    /// `fd00:ec2::254`, ...). Never reachable, even for opted-in names.
    Metadata,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, IPv6 unique-local `fc00::/7` and site-local `fec0::/10`.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `100.64.0.0/10` (carrier-grade NAT).
    Shared,
    /// `0.0.0.0`, `::`: on Linux a connect to it reaches the local host.
    /// Never reachable.
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`. Never reachable.
    Multicast,
    /// `255.255.255.255`. Never reachable.
    Broadcast,
    /// Documentation, benchmarking, "this network", future use, Teredo,
    /// discard, deprecated forms, and everything outside `2000::/3`.
    Reserved,
}

impl AddressClass {
    /// Classifies one address.
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => classify_v4(v4),
            IpAddr::V6(v6) => classify_v6(v6),
        }
    }

    /// Whether an operator's by-name opt-in may reach an address of this
    /// class. Metadata, unspecified, multicast and broadcast stay refused:
    /// none is a service a host means to hand to a guest.
    pub(crate) fn reachable_when_opted_in(self) -> bool {
        matches!(
            self,
            Self::Public
                | Self::Loopback
                | Self::Private
                | Self::LinkLocal
                | Self::Shared
                | Self::Reserved
        )
    }

    /// The class as a noun phrase, for error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Public => "a public address",
            Self::Metadata => "a cloud metadata address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::Shared => "a shared (carrier-grade NAT) address",
            Self::Unspecified => "the unspecified address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Reserved => "a reserved address",
        }
    }
}

/// Well-known instance-metadata addresses (AWS/GCP/Azure/OpenStack, AWS
/// ECS task metadata, Alibaba Cloud, AWS IPv6).
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
];
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)];

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::*;
    if METADATA_V4.contains(&ip) {
        return Metadata;
    }
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_broadcast() {
        return Broadcast;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    if ip.is_private() {
        return Private;
    }
    if ip.is_link_local() {
        return LinkLocal;
    }
    if ip.is_multicast() {
        return Multicast;
    }
    if in_v4(ip, [100, 64, 0, 0], 10) {
        return Shared;
    }
    const RESERVED: [([u8; 4], u32); 8] = [
        ([0, 0, 0, 0], 8),       // "this network"
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // TEST-NET-1
        ([198, 51, 100, 0], 24), // TEST-NET-2
        ([203, 0, 113, 0], 24),  // TEST-NET-3
        ([198, 18, 0, 0], 15),   // benchmarking
        ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
        ([240, 0, 0, 0], 4),     // future use
    ];
    if RESERVED.iter().any(|&(net, prefix)| in_v4(ip, net, prefix)) {
        return Reserved;
    }
    Public
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::*;
    if METADATA_V6.contains(&ip) {
        return Metadata;
    }
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    // Forms that carry an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let bits = u128::from(ip);
    let low_v4 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(ip, [0; 8], 96) {
        // Deprecated IPv4-compatible `::a.b.c.d`: never public.
        return match classify_v4(low_v4) {
            Public => Reserved,
            other => other,
        };
    }
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        // NAT64 well-known prefix: the gateway connects to the embedded v4.
        return classify_v4(low_v4);
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        // 6to4: the embedded v4 is in bits 16..48.
        let v4 = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
        return classify_v4(v4);
    }
    if ip.is_multicast() {
        return Multicast;
    }
    if in_v6(ip, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7) || in_v6(ip, [0xfec0, 0, 0, 0, 0, 0, 0, 0], 10) {
        return Private;
    }
    if in_v6(ip, [0xfe80, 0, 0, 0, 0, 0, 0, 0], 10) {
        return LinkLocal;
    }
    const RESERVED: [([u16; 8], u32); 8] = [
        ([0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0], 48), // local-use NAT64
        ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),           // discard
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),           // Teredo (embeds obfuscated v4)
        ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48),      // benchmarking
        ([0x2001, 0x0010, 0, 0, 0, 0, 0, 0], 28),      // ORCHID (deprecated)
        ([0x2001, 0x0020, 0, 0, 0, 0, 0, 0], 28),      // ORCHIDv2
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32),      // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),           // documentation (RFC 9637)
    ];
    if RESERVED.iter().any(|&(net, prefix)| in_v6(ip, net, prefix)) {
        return Reserved;
    }
    // Only 2000::/3 is allocated as global unicast.
    if in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        Public
    } else {
        Reserved
    }
}

#[cfg(test)]
mod tests {
    use super::AddressClass::{self, *};

    fn class(s: &str) -> AddressClass {
        AddressClass::of(s.parse().expect("an IP address"))
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81c::200e",
            "::ffff:93.184.216.34",
            "64:ff9b::808:808",
            "2002:5db8:d822::1",
        ] {
            assert_eq!(class(ip), Public, "{ip}");
        }
    }

    #[test]
    fn special_ranges_are_classified() {
        let cases = [
            ("169.254.169.254", Metadata),
            ("169.254.170.2", Metadata),
            ("100.100.100.200", Metadata),
            ("fd00:ec2::254", Metadata),
            ("::ffff:169.254.169.254", Metadata),
            ("0.0.0.0", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::7f00:1", Loopback),
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::", Private),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("::ffff:10.0.0.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fec0::1", Private),
            ("169.254.1.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("224.0.0.1", Multicast),
            ("239.1.1.1", Multicast),
            ("ff02::1", Multicast),
            ("0.1.2.3", Reserved),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Reserved),
            ("198.51.100.1", Reserved),
            ("203.0.113.1", Reserved),
            ("198.18.0.1", Reserved),
            ("198.19.255.255", Reserved),
            ("192.88.99.1", Reserved),
            ("240.0.0.1", Reserved),
            ("::8.8.8.8", Reserved),
            ("64:ff9b:1::1", Reserved),
            ("100::1", Reserved),
            ("2001::1", Reserved),
            ("2001:db8::1", Reserved),
            ("2001:2::1", Reserved),
            ("3fff::1", Reserved),
            ("4000::1", Reserved),
            ("::2", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn opt_in_never_reaches_metadata_or_non_unicast() {
        for c in [Metadata, Unspecified, Multicast, Broadcast] {
            assert!(!c.reachable_when_opted_in(), "{c:?}");
        }
        for c in [Loopback, Private, LinkLocal, Shared, Reserved, Public] {
            assert!(c.reachable_when_opted_in(), "{c:?}");
        }
    }
}
