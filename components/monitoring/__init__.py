"""GPU monitoring: kube-prometheus-stack, the exporters' scrape targets, kubeforge's dashboards and alerts."""
