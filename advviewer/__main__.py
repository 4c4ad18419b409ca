import sys

if sys.argv[1:2] == ["--advviewer-file-reader"]:  # the packaged program started as the sandbox's fork server
    from advviewer.reading.sandbox import serve_from_arguments

    serve_from_arguments(sys.argv[1:])
    sys.exit(0)

from advviewer.cli import main  # noqa: E402 -- after the fork server's exit: the server never imports the CLI

sys.exit(main())
