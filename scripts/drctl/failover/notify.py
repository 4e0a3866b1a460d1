"""``Notifier`` implementations: SNS topic, or a callable (console)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SnsNotifier:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def notify(self, subject: str, message: str) -> None:
        # SNS subjects are limited to 100 characters.
        self._sns.publish(TopicArn=self._topic_arn, Subject=subject[:100], Message=message)


class CallbackNotifier:
    def __init__(self, callback: Callable[[str], None]) -> None:
        self._callback = callback

    def notify(self, subject: str, message: str) -> None:
        self._callback(f"{subject}: {message}")
