"""The Qt application: main window, editor, inspector, training dock. Only this package imports Qt."""
