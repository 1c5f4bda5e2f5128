//! TODO(helper): module create.
