[profile]
name = alice
server = 127.0.0.1:7420
server_key = ss2bJYrNHGhQYnHfL7e9Rgo9UeDUm7R+Na37lWgP83c=
secret_key = ss2bJYrNHGhQYnHfL7e9Rgo9UeDUm7R+Na37lWgP83c=
