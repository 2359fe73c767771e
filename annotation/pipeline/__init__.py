"""Pure import/export pipeline (no Django): readers -> record validation -> writers."""
