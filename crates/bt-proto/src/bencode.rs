//! TODO(helper): module bencode.
