//! TODO(helper): module metainfo.
