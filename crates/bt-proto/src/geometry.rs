//! TODO(helper): module geometry.
