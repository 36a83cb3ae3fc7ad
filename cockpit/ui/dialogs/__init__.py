"""Dialogs: modal screens that ask one thing and close (`escape` backs out of any).

One module per family, imported where a dialog opens (not here, so that importing the
package costs nothing at start-up):

- `base`: the dialog box (`Dialog`: title, body, error line, OK / Back) and `Choice`
- `incident`: raise, severity, status, cancel, roles, note
- `prompts`: a line of text (`TextPrompt`), one of several options (`ChoiceModal`)
- `send`: what goes where, before anything is sent (`ConfirmSend`)
- `message`: one message in full (`MessageDetail`)

Screens and widgets may open them; a dialog imports neither screens nor widgets.
"""
