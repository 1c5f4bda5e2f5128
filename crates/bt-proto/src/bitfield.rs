//! TODO(helper): module bitfield.
