"""`python -m stores.sandbox.customstore`: run a sandbox Custom Store until interrupted (see main())."""
from . import main

if __name__ == "__main__":
    main()
