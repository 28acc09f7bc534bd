from ordertrail.entrypoints.cli import main

main()
