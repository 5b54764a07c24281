"""Workload performance models: training step time and MFU, LLM prefill/decode, reliability, queueing."""
