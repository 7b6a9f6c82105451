from crawler.commands.main import main

main()
