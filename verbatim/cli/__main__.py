from verbatim.cli.main import main

main()
