from truecost.cli.app import main

main()
