"""Pure metric code (no Django): ROUGE (``rouge``), entity P/R/F1 (``entities``),
confidence intervals and paired tests (``stats``). Selectors build their inputs,
services store their results (STYLE.md rule 4)."""
