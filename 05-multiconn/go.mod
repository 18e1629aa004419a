module example.com/sockets/05-multiconn

go 1.26.0
