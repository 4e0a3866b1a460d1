"""Kubernetes implementation of ``Scaler`` (the DR EKS deployments).

The kubernetes package is imported lazily: the Lambda bundle ships without it.
Deployment names may be ``namespace/name``; a bare name uses the default namespace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drctl.deadline import BoundedApi, kube_api_client, kube_endpoint


def _split(name: str, default_namespace: str) -> tuple[str, str]:
    if "/" in name:
        namespace, _, deployment = name.partition("/")
        return namespace, deployment
    return default_namespace, name


def apps_api_from_kubeconfig(kubeconfig: str | dict[str, Any]) -> Any:
    import yaml
    from kubernetes import client

    # The kubeconfig is a secret output: load it in memory, never write or print it.
    data = yaml.safe_load(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    api_client = kube_api_client(data)
    # The Kubernetes client has no default timeout: bound every call.
    return BoundedApi(client.AppsV1Api(api_client), kube_endpoint(api_client))


class KubernetesScaler:
    def __init__(
        self,
        apps_api: Any,
        deployments: list[str],
        namespace: str = "default",
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._apps = apps_api
        self._deployments = list(deployments)
        self._namespace = namespace
        self._poll = poll_seconds
        self._sleep = sleep

    def current_replicas(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for name in self._deployments:
            namespace, deployment = _split(name, self._namespace)
            scale = self._apps.read_namespaced_deployment_scale(deployment, namespace)
            result[name] = int(scale.spec.replicas or 0)
        return result

    def scale(self, replicas: dict[str, int]) -> None:
        for name, count in replicas.items():
            namespace, deployment = _split(name, self._namespace)
            self._apps.patch_namespaced_deployment_scale(
                deployment, namespace, {"spec": {"replicas": int(count)}}
            )

    def ready_replicas(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for name in self._deployments:
            namespace, deployment = _split(name, self._namespace)
            status = self._apps.read_namespaced_deployment_status(deployment, namespace).status
            result[name] = int(status.ready_replicas or 0)
        return result

    def wait_ready(self, replicas: dict[str, int], timeout_seconds: float) -> None:
        # Kubernetes has no waiter like botocore's; this polls a condition, it does not
        # retry failed calls (the client raises those).
        deadline = time.monotonic() + timeout_seconds
        while True:
            ready = self.ready_replicas()
            missing = {
                n: (ready.get(n, 0), want) for n, want in replicas.items() if ready.get(n, 0) < want
            }
            if not missing:
                return
            if time.monotonic() >= deadline:
                detail = ", ".join(f"{n} {have}/{want}" for n, (have, want) in missing.items())
                raise TimeoutError(f"deployments not ready after {timeout_seconds:.0f}s: {detail}")
            self._sleep(self._poll)
