"""Pure ballot rules: stage table, ballot types, approval criteria, comment ordering. No I/O."""
