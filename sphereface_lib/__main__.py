import sys

from sphereface_lib.cli import main

sys.exit(main())
