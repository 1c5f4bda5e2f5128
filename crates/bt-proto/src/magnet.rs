//! TODO(helper): module magnet.
