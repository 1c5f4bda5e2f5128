//! TODO(helper): trackers.
