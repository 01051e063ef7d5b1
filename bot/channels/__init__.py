"""Custom Rasa input channels.

- ``bot.channels.rest.RestInput``: Rasa's REST channel (same URL, same replies) with the checks
  a public web endpoint needs before Rasa sees a message. ``credentials.yml`` switches it on.
- ``bot.channels.telegram.TelegramInput``: Rasa's Telegram connector with a configurable Bot API
  address and a webhook secret token; ``credentials.telegram.yml`` switches it on when
  ``TELEGRAM_TOKEN`` is set.
"""
