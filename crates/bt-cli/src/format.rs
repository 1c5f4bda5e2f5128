//! Human-readable formatting shared by the subcommands.

/// Formats a byte count with binary units: `1023 B`, `1.5 KiB`, `2.0 GiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Parses a size such as `262144`, `256KiB`, `256k`, `1MiB`, `1.5 MB` into bytes (binary units:
/// bittorrent sizes are powers of two, so `1MB` means 1 MiB here, as in aria2). A fraction is
/// rounded to the nearest byte; a fraction of a byte that rounds to none is refused.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a size (e.g. 262144, 256KiB, 1.5MiB)");
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit {other:?} (use KiB, MiB or GiB)")),
    };
    let too_large = || format!("{text:?} is too large");
    if number.bytes().all(|b| b.is_ascii_digit()) {
        let whole: u64 = number.parse().map_err(|_| match number {
            "" => bad(),
            _ => too_large(),
        })?;
        return whole.checked_mul(1 << shift).ok_or_else(too_large);
    }
    // A decimal such as 1.5 (`f64` parses exactly the digits-and-one-dot forms left here).
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = (value * (1u64 << shift) as f64).round();
    if bytes >= u64::MAX as f64 {
        return Err(too_large());
    }
    if bytes == 0.0 && value > 0.0 {
        return Err(format!("{text:?} is less than a byte"));
    }
    Ok(bytes as u64)
}

/// Parses a rate such as `10MiB/s`, `500KiB/s`, `1.5MB/s`, `500k` or `0` (unlimited) into
/// bytes per second; the `/s` is optional and units are binary, as in [`parse_size`].
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let size = trimmed
        .strip_suffix("/s")
        .or_else(|| trimmed.strip_suffix("ps"))
        .unwrap_or(trimmed);
    parse_size(size).map_err(|_| format!("{text:?} is not a rate (e.g. 10MiB/s, 500KiB/s, 0)"))
}

/// Parses a duration such as `90`, `90s`, `15m`, `2h`, `1h30m` or `1d` (a bare number is
/// seconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?} is not a duration (e.g. 90s, 15m, 2h, 1h30m)");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = trimmed.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let seconds_per = match &rest[digits..digits + unit_len] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        total = number
            .checked_mul(seconds_per)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        rest = &rest[digits + unit_len..];
    }
    Ok(std::time::Duration::from_secs(total))
}

/// Formats a duration for a person: `2.5s` below ten seconds, then to the second: `45s`,
/// `3m05s`, `2h10m`.
pub fn duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..10 => format!("{:.1}s", d.as_secs_f64()),
        10..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// Formats a rate in bytes per second: `1.5 MiB/s`.
pub fn rate(bytes_per_second: u64) -> String {
    format!("{}/s", bytes(bytes_per_second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parse_rate_takes_sizes_with_or_without_per_second() {
        assert_eq!(parse_rate("10MiB/s"), Ok(10 << 20));
        assert_eq!(parse_rate("500KiB/s"), Ok(500 << 10));
        assert_eq!(parse_rate("500k"), Ok(500 << 10));
        assert_eq!(parse_rate("10 MiB/s"), Ok(10 << 20));
        assert_eq!(parse_rate("2mbps"), Ok(2 << 20));
        assert_eq!(parse_rate("0"), Ok(0), "0 is unlimited");
        assert_eq!(parse_rate("0KiB/s"), Ok(0));
    }

    #[test]
    fn parse_rate_takes_fractions_in_binary_units() {
        assert_eq!(parse_rate("1.5MB/s"), Ok(1_572_864));
        assert_eq!(parse_rate("1.5MiB/s"), Ok(1_572_864));
        assert_eq!(parse_rate("0.5k"), Ok(512));
        assert_eq!(parse_rate(".25KiB/s"), Ok(256));
        assert_eq!(parse_rate("1.0001k"), Ok(1024), "rounded to the byte");
    }

    #[test]
    fn parse_rate_refuses_what_is_not_a_rate() {
        for bad in [
            "",
            "fast",
            "10MiB/h",
            "-1MiB/s",
            "1.2.3MiB/s",
            "1e3",
            "MiB/s",
            "/s",
            "0.4",
            "10 parsecs/s",
            "NaN",
            "inf",
            "99999999999GiB/s",
        ] {
            let error = parse_rate(bad).expect_err(bad);
            assert!(error.contains("is not a rate"), "{bad}: {error}");
        }
    }

    #[test]
    fn parse_duration_reads_units_and_sums_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "m", "5x", "1.5h", "99999999999999999999d", "h5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duration_shows_two_units_at_most() {
        assert_eq!(duration(Duration::from_millis(2540)), "2.5s");
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(duration(Duration::from_secs(7800)), "2h10m");
    }

    #[test]
    fn parse_size_reads_bytes_and_binary_units() {
        assert_eq!(parse_size("262144"), Ok(262_144));
        assert_eq!(parse_size("256KiB"), Ok(262_144));
        assert_eq!(parse_size("256k"), Ok(262_144));
        assert_eq!(parse_size("1 MiB"), Ok(1 << 20));
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(parse_size("1.5 MiB"), Ok(3 << 19));
        assert!(parse_size("0.4").unwrap_err().contains("less than a byte"));
        assert!(parse_size("1..5k").is_err());
        assert!(
            parse_size("17179869184.5G")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn bytes_picks_the_largest_unit_below_1024() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
    }
}
