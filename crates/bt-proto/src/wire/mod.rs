//! TODO(helper): peer wire.
