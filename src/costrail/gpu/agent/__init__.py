"""`costrail agent`: an NVML sampler that writes `gpu_samples` segments and serves Prometheus."""
