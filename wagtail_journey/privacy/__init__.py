"""Visitors' rights and the proof behind them: consent, proof data, double opt-in."""
