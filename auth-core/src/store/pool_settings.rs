//! Database pool limits, shared by the SQLite and PostgreSQL stores.

use std::time::Duration;

use crate::config::AuthConfig;

/// Pool limits, from `auth_database_max_connections` and
/// `auth_database_acquire_timeout` (see the
/// [configuration table](crate#configuration)).
///
/// # Example
///
/// ```
/// use auth_core::AuthConfig;
/// use auth_core::database::PoolSettings;
///
/// let settings = PoolSettings::from_config(&AuthConfig::default());
/// assert_eq!(settings, PoolSettings::default());
/// assert_eq!(settings.max_connections, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolSettings {
    /// Connections one process keeps open at most. (An in-memory `SQLite`
    /// database always gets exactly one.)
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self::from_config(&AuthConfig::default())
    }
}

impl PoolSettings {
    /// These settings with at most `max_connections` connections.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use auth_core::database::PoolSettings;
    ///
    /// let settings = PoolSettings::default()
    ///     .with_max_connections(4)
    ///     .with_acquire_timeout(Duration::from_secs(2));
    /// assert_eq!(settings.max_connections, 4);
    /// ```
    #[must_use]
    pub fn with_max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections.max(1);
        self
    }

    /// These settings with a different acquire timeout.
    #[must_use]
    pub fn with_acquire_timeout(mut self, acquire_timeout: Duration) -> Self {
        self.acquire_timeout = acquire_timeout;
        self
    }

    /// The settings configured in `config`.
    #[must_use]
    pub fn from_config(config: &AuthConfig) -> Self {
        Self {
            max_connections: u32::try_from(config.database_max_connections).unwrap_or(u32::MAX),
            acquire_timeout: Duration::from_secs(config.database_acquire_timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_follow_the_configuration() {
        let config = AuthConfig {
            database_max_connections: 3,
            database_acquire_timeout: 7,
            ..AuthConfig::default()
        };
        let settings = PoolSettings::from_config(&config);
        assert_eq!(settings.max_connections, 3);
        assert_eq!(settings.acquire_timeout, Duration::from_secs(7));
    }
}
