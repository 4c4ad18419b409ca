import sys

from advviewer.cli import main

sys.exit(main())
