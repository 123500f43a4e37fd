-- +goose Up
-- Organization indexes for the people list at contact-center scale:
-- people_name lets a name-ordered page stop after LIMIT rows instead of
-- sorting everyone, and a search test search_text without reading the row;
-- person_clients_client_person answers "the people of
-- these clients" (scope filter, counts) from the index alone.
CREATE INDEX people_name ON people(full_name, id, search_text);
CREATE INDEX person_clients_client_person ON person_clients(client_id, person_id);
DROP INDEX person_clients_client;

-- +goose Down
CREATE INDEX person_clients_client ON person_clients(client_id);
DROP INDEX person_clients_client_person;
DROP INDEX people_name;
