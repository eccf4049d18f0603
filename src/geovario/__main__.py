import sys

from geovario.cli import main

sys.exit(main())
