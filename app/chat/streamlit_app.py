"""The page script `streamlit run` executes (see `heprag chat`); all logic lives in `heprag.app.chat`."""

from __future__ import annotations

from heprag.app.chat.page import main

main()
