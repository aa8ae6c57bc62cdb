INSERT INTO todo (title, done) VALUES ('write the schema', true), ('seed some rows', true), ('test it', false);
